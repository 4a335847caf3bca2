// Small behaviours shared by every page. htmx does the rest.
document.addEventListener("htmx:responseError", function (event) {
  const target = event.detail.target;
  if (target && event.detail.xhr.status >= 500) {
    target.insertAdjacentHTML("afterbegin", '<p class="error" role="alert">Something went wrong on our side. Nothing was saved; try again.</p>');
  }
  if (target && event.detail.xhr.status === 429) {  // the server's reason, as text
    const note = document.createElement("p");
    note.className = "error";
    note.setAttribute("role", "alert");
    note.textContent = event.detail.xhr.responseText;
    target.insertAdjacentElement("afterbegin", note);
  }
});

// The Content-Security-Policy allows no inline handlers and no eval, so behaviour that
// templates used to write inline is declared with data attributes and wired here.

// <form data-confirm="Delete this?">: asks before submitting.
document.addEventListener("submit", function (event) {
  const form = event.target;
  if (form.dataset && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
    event.preventDefault();
  }
});

document.addEventListener("change", function (event) {
  const field = event.target;
  if (!(field instanceof Element)) return;
  // <select data-submit-on-change>: submits its form (the organization switcher).
  if (field.matches("[data-submit-on-change]") && field.form) {
    field.form.requestSubmit();
  }
  // <div hx-trigger="relevant-change" data-change-filter="select, [data-rebuild]">: htmx
  // filters in hx-trigger are evaluated JavaScript; this fires only for matching fields.
  const scope = field.closest("[data-change-filter]");
  if (scope && field.matches(scope.dataset.changeFilter)) {
    htmx.trigger(scope, "relevant-change");
  }
});

// <textarea data-preview-shortcut>: Ctrl-Enter (Cmd-Enter on a Mac) clicks the form's Preview button.
document.addEventListener("keydown", function (event) {
  const field = event.target;
  if (event.key !== "Enter" || !(event.ctrlKey || event.metaKey)) return;
  if (!(field instanceof Element) || !field.matches("[data-preview-shortcut]")) return;
  const button = document.getElementById("preview-button");
  if (button) {
    event.preventDefault();
    button.click();
  }
});
