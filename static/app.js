// ironclock dashboard: tiny progressive enhancement, no framework and no build step.
// - [data-progress-url]: polls a JSON progress endpoint every 2 s and updates the bar and counts;
// - [data-stream-url]: appends server-sent punches to a table body as they arrive.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("[data-progress-url]").forEach((box) => {
    const url = box.getAttribute("data-progress-url");
    const bar = box.querySelector("progress");
    const text = box.querySelector("[data-progress-text]");
    const tick = async () => {
      try {
        const r = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
        if (!r.ok) return;
        const p = await r.json();
        if (bar) { bar.value = p.percent; bar.textContent = p.percent + "%"; }
        if (text) {
          text.textContent = `${p.percent}% — ${p.confirmed} confirmed, ${p.delivered} delivered, ${p.queued} queued` +
            (p.estimated_finish ? ` — done by about ${new Date(p.estimated_finish).toLocaleTimeString()}` : "");
        }
        box.setAttribute("data-percent", String(p.percent));
      } catch (_) { /* offline for a moment: the next tick tries again */ }
    };
    tick();
    setInterval(tick, 2000);
  });
  document.querySelectorAll("[data-stream-url]").forEach((tbody) => {
    const source = new EventSource(tbody.getAttribute("data-stream-url"));
    source.addEventListener("punch", (e) => {
      const p = JSON.parse(e.data);
      const row = document.createElement("tr");
      for (const value of [p.local_time, p.student_name || "", p.pin, p.serial_number]) {
        const cell = document.createElement("td");
        cell.textContent = value;
        row.appendChild(cell);
      }
      tbody.prepend(row);
      const count = document.querySelector("[data-live-count]");
      if (count) count.textContent = String(Number(count.textContent || "0") + 1);
    });
  });
});
