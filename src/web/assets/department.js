// The department page: answer, close and promote escalations, review promotion drafts,
// through the API.
'use strict';
(function () {
  const { api, store } = window.kotae;
  const BY = 'kotae.answered_by';
  function result(card, text, bad) {
    const p = card.querySelector('.result');
    p.textContent = text;
    p.classList.toggle('error', !!bad);
  }
  async function act(card, path, body, done) {
    card.querySelectorAll('button').forEach((b) => { b.disabled = true; });
    try {
      await api('POST', '/api/escalations/' + encodeURIComponent(card.dataset.id) + path, body);
      result(card, done);
      setTimeout(() => location.reload(), 600);
    } catch (e) {
      result(card, '失敗しました：' + e.message, true);
      card.querySelectorAll('button').forEach((b) => { b.disabled = false; });
    }
  }
  document.querySelectorAll('article.esc').forEach((card) => {
    const form = card.querySelector('form.answer-form');
    if (form) {
      const by = form.elements.answered_by;
      by.value = store(BY) || '';
      form.addEventListener('submit', (ev) => {
        ev.preventDefault();
        store(BY, by.value.trim());
        act(card, '/answer', { answer: form.elements.answer.value, answered_by: by.value },
          '回答を送りました。オペレーターの画面に表示されます。');
      });
    }
    const close = card.querySelector('button.close');
    if (close) close.addEventListener('click', () => act(card, '/close', undefined, '完了にしました。'));
    const promote = card.querySelector('button.promote');
    if (promote) {
      promote.addEventListener('click', () =>
        act(card, '/promote', {}, 'FAQの下書きを作りました。内容を確認して公開してください。'));
    }
  });
  document.querySelectorAll('article.draft').forEach((card) => {
    const form = card.querySelector('form.draft-form');
    const path = '/api/promotions/' + encodeURIComponent(card.dataset.id);
    async function run(steps, done) {
      card.querySelectorAll('button').forEach((b) => { b.disabled = true; });
      try {
        for (const [method, p, body] of steps) await api(method, p, body);
        result(card, done);
        setTimeout(() => location.reload(), 600);
      } catch (e) {
        result(card, '失敗しました：' + e.message, true);
        card.querySelectorAll('button').forEach((b) => { b.disabled = false; });
      }
    }
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      const ack = form.elements.acknowledge_flags;
      run([
        ['PUT', path, { question: form.elements.question.value, answer: form.elements.answer.value }],
        ['POST', path + '/publish', { acknowledge_flags: !!(ack && ack.checked) }],
      ], 'FAQとして公開しました。すぐに検索できます。');
    });
    card.querySelector('button.discard').addEventListener('click', () =>
      run([['POST', path + '/discard']], '下書きを破棄しました。'));
  });
})();
