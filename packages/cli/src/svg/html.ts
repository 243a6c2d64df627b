import { xmlEscape } from "./format.js";

/**
 * Wraps a picture in a page: the SVG inline (so it scales and stays selectable), and a
 * tooltip that shows a range's name, addresses, path and what it hides under the pointer.
 */
export function svgToHtml(svg: string, title: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${xmlEscape(title)}</title>
<style>
  body { margin: 0; background: #fafafa; font-family: "DejaVu Sans", Verdana, Arial, sans-serif; }
  main { padding: 8px; }
  main > svg { display: block; max-width: 100%; height: auto; }
  g.range, g.gap { cursor: default; }
  g.range:hover > rect:first-of-type, g.gap:hover > rect { stroke: #111; stroke-width: 2; }
  #tip { position: fixed; display: none; pointer-events: none; white-space: pre; font-size: 12px;
         background: #1f2328; color: #f6f8fa; padding: 6px 8px; border-radius: 4px; max-width: 60ch;
         box-shadow: 0 2px 8px rgba(0,0,0,.3); }
</style>
</head>
<body>
<main>
${svg}</main>
<div id="tip" role="tooltip"></div>
<script>
  const tip = document.getElementById("tip");
  for (const g of document.querySelectorAll("[data-tip]")) {
    g.querySelector("title")?.remove();
    g.addEventListener("mousemove", (e) => {
      tip.textContent = g.dataset.tip;
      tip.style.display = "block";
      tip.style.left = Math.min(e.clientX + 14, innerWidth - tip.offsetWidth - 4) + "px";
      tip.style.top = e.clientY + 16 + "px";
    });
    g.addEventListener("mouseleave", () => { tip.style.display = "none"; });
  }
</script>
</body>
</html>
`;
}
