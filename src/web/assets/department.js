// The department page: answer, close and promote escalations through the API.
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
        act(card, '/promote', {}, 'FAQとして登録しました。すぐに検索できます。'));
    }
  });
})();
