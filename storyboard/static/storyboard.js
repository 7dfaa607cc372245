// The storyboard page's behaviour, in one file so the Content-Security-Policy can forbid
// inline script. Loaded with `defer` after htmx: it only registers listeners on the
// document, so elements that live updates swap in later are covered too.
"use strict";

// The ws extension swaps each top-level element of a message by id, but an HTML parser
// drops a <td> outside a table: a scene's asset cells come wrapped in <template>, which
// htmx.swap unwraps (as it does for any htmx response).
//
// A toolbar rendered before the one on the page is old news: a Generate response that
// lands after the socket showed the run finished (or a push that lands after a newer
// response) must not put the older state back, so it is left out.
function olderToolbar(html) {
  const parsed = document.createElement("template");
  parsed.innerHTML = html;
  const incoming = parsed.content.querySelector("#toolbar");
  const current = document.getElementById("toolbar");
  const older = Boolean(incoming && current
    && Number(incoming.dataset.rendered) < Number(current.dataset.rendered));
  if (older) incoming.remove();
  return {older, rest: parsed.innerHTML};
}

document.addEventListener("htmx:wsBeforeMessage", (event) => {
  event.preventDefault();
  const {older, rest} = olderToolbar(event.detail.message);
  htmx.swap(document.body, older ? rest : event.detail.message, {swapStyle: "none"});
});

document.addEventListener("htmx:beforeSwap", (event) => {
  if (event.detail.target && event.detail.target.id === "toolbar"
      && olderToolbar(event.detail.serverResponse).older) {
    event.detail.shouldSwap = false;
  }
});

// Buttons say what they do with data attributes instead of onclick handlers:
//   data-open-dialog="<id>"  opens that <dialog> as a modal
//   data-close-dialog        closes the <dialog> it sits in (a submit button still submits)
//   data-dismiss             removes the element it sits in (a toast, the error summary)
document.addEventListener("click", (event) => {
  const target = event.target instanceof Element ? event.target : null;
  if (!target) return;
  const opener = target.closest("[data-open-dialog]");
  if (opener) {
    const dialog = document.getElementById(opener.dataset.openDialog);
    if (dialog && !dialog.open) dialog.showModal();
  }
  const closer = target.closest("[data-close-dialog]");
  if (closer) {
    const dialog = closer.closest("dialog");
    if (dialog) dialog.close();
  }
  const dismiss = target.closest("[data-dismiss]");
  if (dismiss && dismiss.parentElement) dismiss.parentElement.remove();
});

// A dropdown menu (a scene's "Regenerate ▾") closes once one of its options is sent, so it
// doesn't stay open over the row's other buttons.
document.addEventListener("submit", (event) => {
  const target = event.target instanceof Element ? event.target : null;
  const menu = target && target.closest("details.dropdown");
  if (menu) menu.open = false;
});

// Browser notifications: a run or an export that ends while this tab is in the background
// says so. Permission is asked on first use, when the creator starts a run or an export
// (a click, as browsers require); a "no" is respected and never asked again.
function askToNotify() {
  if ("Notification" in window && Notification.permission === "default") {
    Notification.requestPermission();
  }
}

document.addEventListener("submit", (event) => {
  const form = event.target instanceof HTMLFormElement ? event.target : null;
  if (form && form.matches(".generate-form, .export-form")) askToNotify();
}, true);

function notifyInBackground(text) {
  if (!document.hidden || !("Notification" in window)) return;
  if (Notification.permission !== "granted") return;
  new Notification("Storyboard", {body: text, tag: "storyboard-" + location.pathname});
}

// A run's end arrives as a toast; an export's as its progress block leaving the panel.
let activeExport = null;
function watchEnds(mutations) {
  for (const mutation of mutations) {
    for (const node of mutation.addedNodes) {
      if (node instanceof Element && node.matches(".toast")) {
        notifyInBackground(node.querySelector("span")?.textContent.trim() || "Generation ended");
      }
    }
  }
  const progress = document.querySelector(".export-progress[data-export]");
  const now = progress ? progress.dataset.export : null;
  if (activeExport && !now) {
    const last = document.querySelector(".exports tbody tr");
    notifyInBackground(last && last.classList.contains("export-succeeded")
      ? "The film is ready to download."
      : "The export ended: " + (last ? last.textContent.trim().replace(/\s+/g, " ") : ""));
  }
  activeExport = now;
}

document.addEventListener("DOMContentLoaded", () => {
  activeExport = document.querySelector(".export-progress[data-export]")?.dataset.export || null;
  new MutationObserver(watchEnds).observe(document.body, {subtree: true, childList: true});
});

// Toasts that only report (a run done, or cancelled) leave after a few seconds, so they
// never pile up; a warning has no data-autohide and stays until dismissed. Live updates
// append toasts to #toasts, which itself is never replaced, so one observer sees them all.
const TOAST_MS = 6000;
function leaveLater(toast) {
  if (toast.dataset.leaving) return;
  toast.dataset.leaving = "1";
  setTimeout(() => {
    toast.classList.add("leaving");
    setTimeout(() => toast.remove(), 300);
  }, TOAST_MS);
}
const toasts = document.getElementById("toasts");
if (toasts) {
  const schedule = () => toasts.querySelectorAll(".toast[data-autohide]").forEach(leaveLater);
  new MutationObserver(schedule).observe(toasts, {childList: true});
  schedule();
}

// A clip shows its scene's still (the poster) and a play button; the first click plays it
// with the browser's controls, which then stay.
document.addEventListener("click", (event) => {
  const target = event.target instanceof Element ? event.target : null;
  const clip = target && target.closest("[data-play-clip]");
  const video = clip && clip.querySelector("video");
  if (!video || video.controls) return;
  clip.classList.add("playing");
  video.controls = true;
  video.play().catch(() => {});
});
