// kotae pages: helpers shared by operator.js and department.js (no dependencies).
'use strict';
window.kotae = (function () {
  // Calls the JSON API with the page's session (cookie, same origin); throws an Error whose
  // message is the API's `message` on a non-2xx answer.
  async function api(method, path, body, signal) {
    const init = { method, credentials: 'same-origin', headers: {}, signal };
    if (body !== undefined) {
      init.headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    const r = await fetch(path, init);
    let data = null;
    try { data = await r.json(); } catch (_) { data = null; }
    if (!r.ok) {
      const e = new Error((data && data.message) || ('HTTP ' + r.status));
      e.status = r.status;
      e.code = data && data.code;
      throw e;
    }
    return data;
  }
  // Builds an element; strings become text nodes (never HTML).
  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === 'class') e.className = v;
      else if (k === 'text') e.textContent = v;
      else e.setAttribute(k, v === true ? '' : v);
    }
    for (const c of children.flat()) {
      if (c === null || c === undefined || c === false) continue;
      e.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return e;
  }
  // 2026-04-01T09:30:00+09:00 -> 2026-04-01 09:30 (Japan time).
  function jst(s, withTime) {
    if (!s) return '';
    const d = new Date(s);
    if (isNaN(d)) return s;
    const j = new Date(d.getTime() + 9 * 3600 * 1000).toISOString();
    return withTime === false ? j.slice(0, 10) : j.slice(0, 10) + ' ' + j.slice(11, 16);
  }
  // Copies text; falls back to a hidden textarea where the Clipboard API is refused.
  async function copy(text) {
    try {
      await navigator.clipboard.writeText(text);
      return true;
    } catch (_) {
      const t = el('textarea', { class: 'sr' }, text);
      document.body.append(t);
      t.select();
      const ok = document.execCommand('copy');
      t.remove();
      return ok;
    }
  }
  function store(key, value) {
    try {
      if (value === undefined) return localStorage.getItem(key);
      localStorage.setItem(key, value);
    } catch (_) { return null; }
    return value;
  }
  return { api, el, jst, copy, store };
})();
