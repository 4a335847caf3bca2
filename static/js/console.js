// Small behaviours shared by every page. htmx does the rest.
document.addEventListener("htmx:responseError", function (event) {
  const target = event.detail.target;
  if (target && event.detail.xhr.status >= 500) {
    target.insertAdjacentHTML("afterbegin", '<p class="error" role="alert">Something went wrong on our side. Nothing was saved; try again.</p>');
  }
});
