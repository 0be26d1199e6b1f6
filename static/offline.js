// @ts-check
/**
 * Registers the service worker (sw.js, at the site root) in a built site and says, in one small
 * status element, when the page works offline and when an update is waiting. Text only.
 *
 * Registration waits until the page has booted Python once (body[data-state] leaves "loading"): by
 * then the browser's HTTP cache holds the Pyodide files, so the service worker's install revalidates
 * them instead of downloading them a second time while the page is still loading them.
 */
import { BUILD_HASH, PYODIDE_BASE } from "./config.js";

const SW_URL = new URL("../sw.js", import.meta.url);
const SCOPE = new URL("../", import.meta.url);

const MESSAGES = {
  installing: "Saving for offline use…",
  ready: "Ready to work offline",
  update: "Update available — ",
  failed: "Could not be saved for offline use",
};

/**
 * Register the service worker when the site is built and self-contained (not in development, and
 * not with --cdn, whose Pyodide files come from another origin the worker does not cache).
 * @param {HTMLElement | null} status the #offline-status element
 */
export function setUpOffline(status) {
  if (!status || !("serviceWorker" in navigator) || BUILD_HASH === "dev") return;
  if (/^[a-z]+:/i.test(PYODIDE_BASE)) return;
  afterBoot(() => register(status));
}

/** @param {() => void} callback called once the page has left the "loading" state */
function afterBoot(callback) {
  if (document.body.dataset.state !== "loading") {
    callback();
    return;
  }
  const observer = new MutationObserver(() => {
    if (document.body.dataset.state === "loading") return;
    observer.disconnect();
    callback();
  });
  observer.observe(document.body, { attributes: true, attributeFilter: ["data-state"] });
}

/** @param {HTMLElement} status */
async function register(status) {
  let registration;
  try {
    registration = await navigator.serviceWorker.register(SW_URL, { scope: SCOPE.pathname });
  } catch (error) {
    console.warn("The service worker could not be registered", error);
    show(status, "failed");
    return;
  }
  if (registration.active) show(status, "ready");
  if (registration.waiting) offerUpdate(status, registration.waiting);
  else if (registration.installing) track(status, registration.installing, Boolean(registration.active));
  registration.addEventListener("updatefound", () => {
    if (registration.installing) track(status, registration.installing, Boolean(registration.active));
  });
}

/**
 * Follow a worker that is installing: a first install makes the page ready offline; an install
 * while another version controls the page is an update.
 * @param {HTMLElement} status
 * @param {ServiceWorker} worker
 * @param {boolean} isUpdate
 */
function track(status, worker, isUpdate) {
  if (!isUpdate) show(status, "installing");
  worker.addEventListener("statechange", () => {
    if (worker.state === "installed" && isUpdate) offerUpdate(status, worker);
    else if (worker.state === "activated" && !isUpdate) show(status, "ready");
    else if (worker.state === "redundant" && !isUpdate && status.dataset.offline !== "ready") show(status, "failed");
  });
}

/**
 * Say that a new version is waiting, with a button that activates it and reloads.
 * @param {HTMLElement} status
 * @param {ServiceWorker} waiting
 */
function offerUpdate(status, waiting) {
  show(status, "update");
  const button = document.createElement("button");
  button.type = "button";
  button.className = "link-button";
  button.textContent = "reload";
  button.addEventListener("click", () => {
    navigator.serviceWorker.addEventListener("controllerchange", () => location.reload(), { once: true });
    waiting.postMessage({ type: "skip-waiting" });
  });
  status.append(button);
}

/**
 * @param {HTMLElement} status
 * @param {keyof MESSAGES} state
 */
function show(status, state) {
  status.textContent = MESSAGES[state];
  status.dataset.offline = state;
  status.hidden = false;
}
