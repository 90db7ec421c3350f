// The operator page: results as the operator types, keyboard navigation, the opened
// material with the outcomes recorded through /api/inquiries, and the departments' answers.
'use strict';
(function () {
  const { api, el, jst, copy, store } = window.kotae;
  const $ = (id) => document.getElementById(id);
  const box = $('q');
  const form = $('search-form');
  const area = $('results-area');
  const detail = $('detail');
  const notice = $('notice');
  const channel = $('channel');
  const KIND = { faq: 'FAQ', page: 'ページ', contact: '連絡先' };
  const DEBOUNCE_MS = 150;
  const SUGGEST_LIMIT = '8';
  const SUGGEST_KIND = { title: '資料', term: '語', query: 'よく使う検索' };
  const suggestList = $('suggest-list');
  const MINE = 'kotae.my_escalations';

  const initial = JSON.parse($('initial').textContent);
  const st = {
    kind: initial.kind || '', department: initial.department || '',
    resp: initial.response, q: initial.q || '', seq: 0, ctrl: null, sel: -1, material: null,
    canPin: !!initial.can_pin,
  };
  // The suggestion listbox: its items, the active one (-1: none), and the newest request.
  const sg = { items: [], active: -1, seq: 0, ctrl: null };

  channel.value = store('kotae.channel') || 'phone';
  channel.addEventListener('change', () => store('kotae.channel', channel.value));

  // The highlighter's snippet: text with <mark> only. Parsed in an inert <template>; any
  // other element means it is not ours, and it is shown as plain text.
  function snippet(html) {
    const t = document.createElement('template');
    t.innerHTML = html;
    const ok = [...t.content.querySelectorAll('*')].every((n) => n.tagName === 'MARK');
    const p = el('p', { class: 'snippet' });
    if (ok) p.append(t.content); else p.textContent = t.content.textContent;
    return p;
  }

  function contact(c) {
    if (!c) return null;
    const row = (k, v) => v ? el('p', {}, el('span', { class: 'k' }, k), v) : null;
    return el('div', { class: 'contact' },
      c.phone ? el('p', { class: 'phone' }, '☎ ' + c.phone) : null,
      row('係・グループ', c.group), row('担当業務', c.duties), row('受付時間', c.hours),
      row('FAX', c.fax), row('メール', c.email));
  }

  function facetLink(label, n, on, onclick) {
    const a = el('a', { href: '#', class: on ? 'on' : null }, label, n === null ? null : ' ',
      n === null ? null : el('span', { class: 'n' }, n));
    a.addEventListener('click', (ev) => { ev.preventDefault(); onclick(); });
    return a;
  }

  function render() {
    const r = st.resp;
    const status = el('p', { id: 'status', class: 'status', 'aria-live': 'polite' });
    const facets = el('div', { id: 'facets', class: 'facets' });
    // data-q: the query these results answer (what a test or a script waits for).
    const list = el('ol', { id: 'results', class: 'results', 'data-q': r ? st.q : null });
    st.sel = -1;
    if (r) {
      status.textContent = r.total + '件' +
        (r.hits.length ? '' : '：該当する資料がありません。言い換えるか、短くしてみてください。');
      const kinds = Object.entries(r.facets.kind);
      if (kinds.length) {
        facets.append(el('div', { class: 'facet' }, el('span', { class: 'k' }, '種類'),
          facetLink('すべて', null, !st.kind, () => filter('kind', '')),
          kinds.map(([k, n]) => facetLink(KIND[k] || k, n, st.kind === k, () => filter('kind', k)))));
      }
      const depts = Object.entries(r.facets.department);
      if (depts.length) {
        facets.append(el('div', { class: 'facet' }, el('span', { class: 'k' }, '担当課'),
          facetLink('すべて', null, !st.department, () => filter('department', '')),
          depts.map(([d, n]) => facetLink(d, n, st.department === d, () => filter('department', d)))));
      }
      r.hits.forEach((h, i) => {
        const title = el('a', { class: 'title', href: '/m/' + encodeURIComponent(h.id) },
          h.pinned ? el('span', { class: 'pin', title: '管理者がこの検索の先頭に固定した資料' }, '固定') : null,
          h.pinned ? ' ' : null,
          el('span', { class: 'kind kind-' + h.kind }, KIND[h.kind] || h.kind), ' ' + h.title);
        title.addEventListener('click', (ev) => { ev.preventDefault(); select(i); open(i); });
        let pin = null;
        if (st.canPin && !h.pinned) {
          pin = el('button', { type: 'button', class: 'pin-btn link' }, 'この検索に固定');
          pin.addEventListener('click', () => pinHit(h));
        }
        const li = el('li', { class: h.pinned ? 'hit pinned' : 'hit', 'data-id': h.id, tabindex: '-1' }, title,
          snippet(h.snippet), contact(h.contact),
          el('p', { class: 'meta' }, h.department ? el('span', { class: 'dept' }, h.department) : null,
            el('span', { class: 'updated' }, '更新 ' + jst(h.updated_at, false))), pin);
        li.addEventListener('keydown', (ev) => onListKey(ev, i));
        list.append(li);
      });
    }
    area.replaceChildren(status, facets, list);
  }

  // Pins the hit to the query it was found by (manager, admin): that search shows it first.
  async function pinHit(h) {
    try {
      await api('POST', '/api/pins', { query: st.q, material_id: h.id });
      say('「' + st.q + '」の検索でこの資料を先頭に固定しました。');
      run();
    } catch (e) { say('固定できませんでした：' + e.message, true); }
  }

  function filter(name, value) {
    st[name] = value;
    run(true);
  }

  function urlFor(q) {
    const p = new URLSearchParams();
    if (q) p.set('q', q);
    if (st.kind) p.set('kind', st.kind);
    if (st.department) p.set('department', st.department);
    const s = p.toString();
    return s ? '/?' + s : '/';
  }

  // Runs the search in the box. Each run aborts the one before; a response that is not the
  // newest is dropped, so a slow stale answer never overwrites a newer one.
  async function run() {
    const q = box.value.trim();
    const seq = ++st.seq;
    if (st.ctrl) st.ctrl.abort();
    history.replaceState(null, '', urlFor(q));
    if (!q) {
      st.resp = null; st.q = '';
      render();
      return;
    }
    const p = new URLSearchParams({ q, limit: '20' });
    if (st.kind) p.set('kind', st.kind);
    if (st.department) p.set('department', st.department);
    st.ctrl = new AbortController();
    try {
      const resp = await api('GET', '/api/search?' + p, undefined, st.ctrl.signal);
      if (seq !== st.seq) return;
      st.resp = resp; st.q = q;
      render();
    } catch (e) {
      if (seq !== st.seq || e.name === 'AbortError') return;
      $('status').textContent = '検索できませんでした：' + e.message;
    }
  }

  // --- Suggestions: an ARIA 1.2 combobox over the search box (listbox #suggest-list, the
  // active option named by aria-activedescendant; focus stays in the box).
  function suggestOpen() { return !suggestList.hidden; }

  function closeSuggest() {
    sg.seq++;
    if (sg.ctrl) sg.ctrl.abort();
    sg.items = []; sg.active = -1;
    suggestList.replaceChildren();
    suggestList.hidden = true;
    box.setAttribute('aria-expanded', 'false');
    box.removeAttribute('aria-activedescendant');
  }

  function activate(i) {
    const n = sg.items.length;
    sg.active = i < -1 ? n - 1 : (i >= n ? -1 : i);
    [...suggestList.children].forEach((li, j) => li.setAttribute('aria-selected', String(j === sg.active)));
    if (sg.active >= 0) box.setAttribute('aria-activedescendant', 'suggest-' + sg.active);
    else box.removeAttribute('aria-activedescendant');
  }

  async function suggest() {
    const q = box.value.trim();
    const seq = ++sg.seq;
    if (sg.ctrl) sg.ctrl.abort();
    if (!q) { closeSuggest(); return; }
    sg.ctrl = new AbortController();
    let r;
    try {
      r = await api('GET', '/api/suggest?' + new URLSearchParams({ q, limit: SUGGEST_LIMIT }), undefined, sg.ctrl.signal);
    } catch (_) { return; }
    if (seq !== sg.seq || box.value.trim() !== q || document.activeElement !== box) return;
    // The typed text itself is no suggestion.
    sg.items = r.suggestions.filter((s) => s.text !== q);
    sg.active = -1;
    suggestList.replaceChildren(...sg.items.map((s, i) => {
      const li = el('li', { id: 'suggest-' + i, role: 'option', 'aria-selected': 'false', class: 'kind-' + s.kind, 'data-text': s.text },
        el('span', { class: 'sk' }, SUGGEST_KIND[s.kind] || s.kind), ' ', s.text);
      // mousedown would blur the box (and close the list) before the click.
      li.addEventListener('mousedown', (ev) => ev.preventDefault());
      li.addEventListener('click', () => pick(i));
      return li;
    }));
    suggestList.dataset.q = q;
    suggestList.hidden = sg.items.length === 0;
    box.setAttribute('aria-expanded', String(!suggestList.hidden));
    box.removeAttribute('aria-activedescendant');
  }

  // A title opens its material; a term or a query is searched.
  function pick(i) {
    const s = sg.items[i];
    closeSuggest();
    if (!s) return;
    if (s.kind === 'title' && s.material_id) {
      openId(s.material_id);
    } else {
      box.value = s.text;
      clearTimeout(timer);
      run();
    }
  }

  let timer = null;
  box.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(() => { run(); suggest(); }, DEBOUNCE_MS);
  });
  box.addEventListener('blur', closeSuggest);
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    clearTimeout(timer);
    closeSuggest();
    run();
  });
  box.addEventListener('keydown', (ev) => {
    if (suggestOpen()) {
      if (ev.key === 'ArrowDown') { ev.preventDefault(); activate(sg.active + 1); return; }
      if (ev.key === 'ArrowUp') { ev.preventDefault(); activate(sg.active - 1); return; }
      if (ev.key === 'Enter' && sg.active >= 0) { ev.preventDefault(); pick(sg.active); return; }
      if (ev.key === 'Escape') { ev.preventDefault(); ev.stopPropagation(); closeSuggest(); return; }
    }
    // Escape also cancels suggestions still on their way, and never clears the box (a
    // search input's native Escape would wipe what the operator typed).
    if (ev.key === 'Escape') { ev.preventDefault(); closeSuggest(); }
    if (ev.key === 'ArrowDown' && st.resp && st.resp.hits.length) {
      ev.preventDefault();
      select(0);
    }
  });

  function items() { return [...document.querySelectorAll('#results li.hit')]; }

  function select(i) {
    const li = items();
    if (!li.length) return;
    st.sel = Math.max(0, Math.min(i, li.length - 1));
    li.forEach((x, j) => x.classList.toggle('sel', j === st.sel));
    li[st.sel].focus();
  }

  function onListKey(ev, i) {
    if (ev.key === 'ArrowDown') { ev.preventDefault(); select(i + 1); }
    else if (ev.key === 'ArrowUp') {
      ev.preventDefault();
      if (i === 0) box.focus(); else select(i - 1);
    } else if (ev.key === 'Enter') { ev.preventDefault(); open(i); }
    else if (ev.key === 'c' && !ev.ctrlKey && !ev.metaKey && !ev.altKey) { ev.preventDefault(); copyAnswer(i); }
  }

  document.addEventListener('keydown', (ev) => {
    if (ev.key === 'Escape') {
      box.focus();
      box.select();
    }
  });

  function textOf(m) {
    if (m.kind === 'contact' && m.contact) {
      const c = m.contact;
      return [c.department, c.group, c.phone && ('電話 ' + c.phone), c.hours].filter(Boolean).join(' ');
    }
    return m.answer || m.body || '';
  }

  async function materialById(id) {
    if (st.material && st.material.id === id) return st.material;
    return api('GET', '/api/materials/' + encodeURIComponent(id));
  }

  function material(i) { return materialById(st.resp.hits[i].id); }

  function say(text, bad) {
    notice.hidden = false;
    notice.textContent = text;
    notice.classList.toggle('error', !!bad);
  }

  async function copyAnswer(i) {
    try { await copyMaterial(await material(i)); } catch (e) { say('資料を読めませんでした：' + e.message, true); }
  }

  async function copyMaterial(m) {
    const t = textOf(m);
    const ok = await copy(t);
    say(ok ? 'コピーしました：' + t.slice(0, 40) + (t.length > 40 ? '…' : '') : 'コピーできませんでした', !ok);
  }

  async function open(i) { return openId(st.resp.hits[i].id); }

  // Shows one material with the outcomes to record (from a hit or a suggested title).
  async function openId(id) {
    let m;
    try { m = await materialById(id); } catch (e) { say('資料を読めませんでした：' + e.message, true); return; }
    st.material = m;
    const title = m.question || m.title || (m.contact && [m.contact.department, m.contact.group].filter(Boolean).join(' ')) || '';
    const depts = new Set((st.resp ? st.resp.hits : []).map((h) => h.department).filter(Boolean));
    const list = el('datalist', { id: 'dept-list' }, [...depts].map((d) => el('option', { value: d })));
    const esc = el('form', { class: 'escalate', hidden: true },
      el('label', {}, '担当課', el('input', { name: 'department', list: 'dept-list', required: true, value: m.department || '' })),
      el('label', {}, '問い合わせの要旨（担当課が読みます。氏名・電話番号は書かない）',
        el('textarea', { name: 'summary', rows: '3' }, st.q)),
      el('label', { class: 'check' }, el('input', { type: 'checkbox', name: 'callback' }), 'お客さまが折り返しを希望'),
      el('label', { class: 'contact-field', hidden: true }, '折り返し先（回答後に削除されます）',
        el('input', { name: 'contact', autocomplete: 'off' })),
      el('button', { type: 'submit' }, '引継ぐ'), list);
    esc.elements.callback.addEventListener('change', () => {
      esc.querySelector('.contact-field').hidden = !esc.elements.callback.checked;
    });
    esc.addEventListener('submit', (ev) => {
      ev.preventDefault();
      const body = {
        outcome: 'escalated', material_ids: [m.id], department: esc.elements.department.value,
        summary: esc.elements.summary.value,
      };
      if (esc.elements.callback.checked) body.contact = esc.elements.contact.value;
      record(body, '担当課へ引継ぎました。回答が届くとこの画面の右下に出ます。');
    });
    const btn = (label, cls, f) => {
      const b = el('button', { type: 'button', class: cls }, label);
      b.addEventListener('click', f);
      return b;
    };
    // replaceChildren would write a missing part (null) as the text "null".
    detail.replaceChildren(...[
      el('h2', {}, el('span', { class: 'kind kind-' + m.kind }, KIND[m.kind] || m.kind), ' ' + title),
      contact(m.contact),
      el('div', { class: 'fulltext' }, m.answer || m.body || ''),
      el('p', { class: 'meta' }, m.department ? el('span', { class: 'dept' }, m.department) : null,
        el('span', { class: 'updated' }, '更新 ' + jst(m.updated_at, false)),
        m.url ? el('a', { href: m.url, rel: 'noreferrer', target: '_blank' }, '出典ページ') : null),
      el('div', { class: 'outcomes' },
        btn('この資料で回答', 'answered', () => record({ outcome: 'answered', material_ids: [m.id] }, '一次回答として記録しました。')),
        btn('担当課へ引継ぎ', 'escalated secondary', () => { esc.hidden = !esc.hidden; if (!esc.hidden) esc.elements.department.focus(); }),
        btn('回答文をコピー', 'copy secondary', () => copyMaterial(m))),
      esc,
      el('p', { class: 'more' }, '資料で答えられない場合：',
        btn('広聴事案として記録', 'link', () => record({ outcome: 'koucho', material_ids: [m.id] }, '広聴事案として記録しました。')),
        btn('交換（転送）として記録', 'link', () => record({ outcome: 'transfer' }, '交換（転送）として記録しました。'))),
    ].filter(Boolean));
    detail.hidden = false;
  }

  async function record(body, done) {
    body.channel = channel.value;
    if (st.resp) body.query_id = st.resp.query_id;
    try {
      const r = await api('POST', '/api/inquiries', body);
      if (r.escalation_id) {
        const mine = JSON.parse(store(MINE) || '[]');
        mine.push(r.escalation_id);
        store(MINE, JSON.stringify(mine.slice(-200)));
      }
      say(done);
      const f = detail.querySelector('form.escalate');
      if (f) f.hidden = true;
      loadAnswers();
    } catch (e) {
      say('記録できませんでした：' + e.message, true);
    }
  }

  // The departments' answers to escalations (those made from this browser first).
  async function loadAnswers() {
    let r;
    try { r = await api('GET', '/api/escalations?status=answered&limit=20'); } catch (_) { return; }
    const mine = new Set(JSON.parse(store(MINE) || '[]'));
    const list = r.escalations.slice().sort((a, b) => mine.has(b.id) - mine.has(a.id));
    const ol = $('answer-list');
    ol.replaceChildren(...list.map((e) => {
      const done = el('button', { type: 'button', class: 'secondary' }, '折り返し済み');
      done.addEventListener('click', async () => {
        try { await api('POST', '/api/escalations/' + encodeURIComponent(e.id) + '/close'); loadAnswers(); } catch (err) { say(err.message, true); }
      });
      return el('li', { class: mine.has(e.id) ? 'mine' : null, 'data-id': e.id },
        el('p', { class: 'q' }, e.question || '（内容の記録なし）'),
        el('p', { class: 'a' }, e.answer || ''),
        el('p', { class: 'meta' }, e.department + (e.answered_by ? '・' + e.answered_by : '') + '・' + jst(e.answered_at)),
        done);
    }));
    $('answers').hidden = list.length === 0;
  }

  if (st.resp) render();
  loadAnswers();
  setInterval(loadAnswers, 60000);
  box.focus();
})();
