// Phones: a data table's rows become cards, each cell labelled with its column's heading
// (site.css, "table.stacks"). Without script, or with data-stack="no" (a long schedule read
// down its columns), a wide table scrolls inside its own box.
"use strict";

function headingRow(table) {
  if (table.tHead && table.tHead.rows.length) return table.tHead.rows[0];
  const first = table.rows[0];
  const allHeadings = first && Array.from(first.cells).every((cell) => cell.tagName === "TH");
  return allHeadings ? first : null;
}

document.querySelectorAll("table:not([data-stack=no])").forEach((table) => {
  const head = headingRow(table);
  if (!head || head.cells.length < 2) return;
  const names = [];
  for (const th of head.cells) {
    for (let i = 0; i < th.colSpan; i += 1) names.push(i === 0 ? th.textContent.trim() : "");
  }
  head.classList.add("head");
  table.classList.add("stacks");
  for (const row of table.rows) {
    if (row === head || row.parentElement === table.tHead) continue;
    let column = 0;
    for (const cell of row.cells) {
      if (cell.colSpan === 1 && names[column]) cell.dataset.label = names[column];
      column += cell.colSpan;
    }
  }
});
