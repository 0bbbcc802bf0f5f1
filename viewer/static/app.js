// hubscope viewer: keyboard navigation, live rows over server-sent events, copy buttons,
// the notes and theme toggles (remembered in localStorage).
"use strict";

(function () {
  const root = document.documentElement;
  const store = {
    get(key) { try { return window.localStorage.getItem("hubscope." + key); } catch (e) { return null; } },
    set(key, value) { try { window.localStorage.setItem("hubscope." + key, value); } catch (e) { /* private mode */ } },
  };

  // Notes (where the docs and the service differ) are folded unless the user asked for them.
  const notesButton = document.getElementById("notes-toggle");
  function showNotes(shown) {
    root.classList.toggle("notes-hidden", !shown);
    if (notesButton) {
      notesButton.textContent = shown ? "notes shown" : "notes hidden";
      notesButton.setAttribute("aria-pressed", shown ? "true" : "false");
    }
  }
  showNotes(store.get("notes") === "shown");
  function flipNotes() {
    const shown = root.classList.contains("notes-hidden");
    store.set("notes", shown ? "shown" : "hidden");
    showNotes(shown);
  }
  if (notesButton) notesButton.addEventListener("click", flipNotes);
  document.querySelectorAll("[data-toggle-notes]").forEach((b) => b.addEventListener("click", flipNotes));

  // Theme: auto (the system's), light or dark.
  const themes = ["auto", "light", "dark"];
  const themeButton = document.getElementById("theme-toggle");
  function applyTheme(theme) {
    if (theme === "auto") root.removeAttribute("data-theme");
    else root.setAttribute("data-theme", theme);
    if (themeButton) themeButton.textContent = "theme: " + theme;
  }
  applyTheme(themes.includes(store.get("theme")) ? store.get("theme") : "auto");
  if (themeButton) {
    themeButton.addEventListener("click", () => {
      const now = root.getAttribute("data-theme") || "auto";
      const next = themes[(themes.indexOf(now) + 1) % themes.length];
      store.set("theme", next);
      applyTheme(next);
    });
  }

  const table = document.getElementById("exchanges");
  const body = table ? table.tBodies[0] : null;

  function rows() {
    return body ? Array.from(body.querySelectorAll("tr.row")) : [];
  }

  function select(row) {
    rows().forEach((r) => r.classList.remove("selected"));
    if (row) {
      row.classList.add("selected");
      row.scrollIntoView({ block: "nearest" });
    }
  }

  function move(step) {
    const all = rows();
    if (!all.length) return;
    const at = all.findIndex((r) => r.classList.contains("selected"));
    const next = at < 0 ? 0 : Math.min(all.length - 1, Math.max(0, at + step));
    select(all[next]);
  }

  function follow(id) {
    const link = document.getElementById(id);
    if (link && link.href) window.location.href = link.href;
  }

  const onDetail = document.body.classList.contains("page-detail");

  document.addEventListener("keydown", (event) => {
    const tag = (event.target && event.target.tagName) || "";
    if (["INPUT", "SELECT", "TEXTAREA"].includes(tag) || event.metaKey || event.ctrlKey || event.altKey) return;
    if (onDetail) {
      if (event.key === "j" || event.key === "ArrowRight") { follow("older"); event.preventDefault(); }
      else if (event.key === "k" || event.key === "ArrowLeft") { follow("newer"); event.preventDefault(); }
      else if (event.key === "u") { follow("to-list"); event.preventDefault(); }
      return;
    }
    if (event.key === "j") { move(1); event.preventDefault(); }
    else if (event.key === "k") { move(-1); event.preventDefault(); }
    else if (event.key === "Enter") {
      const row = body && body.querySelector("tr.selected");
      if (row) { window.location.href = row.dataset.href; event.preventDefault(); }
    } else if (event.key === "/") {
      const filter = document.getElementById("filter");
      if (filter) { filter.focus(); filter.select(); event.preventDefault(); }
    }
  });

  if (body) {
    body.addEventListener("click", (event) => {
      const row = event.target.closest("tr.row");
      if (row && !event.target.closest("a")) window.location.href = row.dataset.href;
    });
  }

  const source = table && table.dataset.events;
  if (source && window.EventSource) {
    const state = document.getElementById("live-state");
    const events = new EventSource(source);
    events.addEventListener("open", () => state && state.classList.remove("off"));
    events.addEventListener("error", () => state && state.classList.add("off"));
    events.addEventListener("exchange", (event) => {
      const item = JSON.parse(event.data);
      if (document.querySelector('tr[data-id="' + CSS.escape(item.id) + '"]')) return;
      body.insertAdjacentHTML("afterbegin", item.html);
      const row = body.firstElementChild;
      if (row) row.classList.add("fresh");
      const empty = document.querySelector("p.empty");
      if (empty) empty.remove();
    });
  }

  document.querySelectorAll("button.copy").forEach((button) => {
    button.addEventListener("click", async () => {
      const target = document.getElementById(button.dataset.copy);
      if (!target) return;
      try {
        await navigator.clipboard.writeText(target.textContent);
        button.textContent = "copied";
      } catch (error) {
        const range = document.createRange();
        range.selectNodeContents(target);
        window.getSelection().removeAllRanges();
        window.getSelection().addRange(range);
        button.textContent = "selected: press Ctrl+C";
      }
    });
  });
})();
