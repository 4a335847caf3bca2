// OAuth in a popup. The connection page opens the consent page in a popup; the
// callback page tells its opener how it went and closes itself; the opener's
// htmx parts listening for "oauth-finished from:body" refresh.
(function () {
  document.addEventListener("click", function (event) {
    const link = event.target.closest("a[data-oauth-popup]");
    if (!link) return;
    const popup = window.open(link.href, "oauth-consent", "popup,width=620,height=760");
    if (popup) {
      event.preventDefault();
      popup.focus();
    }
  });

  window.addEventListener("message", function (event) {
    if (event.origin !== window.location.origin) return;
    const data = event.data || {};
    if (data.type !== "connection-oauth") return;
    document.body.dispatchEvent(new CustomEvent("oauth-finished", { detail: data }));
  });

  function sameOriginOpener() {
    try {
      return window.opener && !window.opener.closed && window.opener.location.origin === window.location.origin;
    } catch (error) {
      return false; // an opener on another site
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    const element = document.getElementById("oauth-result");
    if (!element) return;
    const result = JSON.parse(element.textContent);
    if (result.redirect_url) {
      window.location.replace(result.redirect_url);
    } else if (sameOriginOpener()) {
      window.opener.postMessage(result, window.location.origin);
      window.close();
    }
  });
})();
