// The manager's list of pinned answers on the dashboard: removes a pin through the API.
'use strict';
(function () {
  const { api } = window.kotae;
  const section = document.getElementById('pins');
  if (!section) return;
  const result = section.querySelector('.result');
  section.querySelectorAll('tr[data-id] button.pin-delete').forEach((b) => {
    b.addEventListener('click', async () => {
      const row = b.closest('tr');
      b.disabled = true;
      try {
        await api('DELETE', '/api/pins/' + encodeURIComponent(row.dataset.id));
        result.textContent = '固定を削除しました：' + row.cells[0].textContent;
        result.classList.remove('error');
        row.remove();
      } catch (e) {
        result.textContent = '削除できませんでした：' + e.message;
        result.classList.add('error');
        b.disabled = false;
      }
    });
  });
})();
