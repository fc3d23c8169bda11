// The summaries under the site's search results: text from the article only
// (not the theme's header, buttons, table of contents or footer), with formulas
// shown as "…" instead of their raw TeX.  Replaces Sphinx's Search.htmlToText,
// which reads the whole [role=main] element, TeX included.  This file loads
// before searchtools.js; Search.init runs on DOMContentLoaded, after this listener.
document.addEventListener("DOMContentLoaded", () => {
  if (typeof Search === "undefined") return;
  Search.htmlToText = (htmlString, anchor) => {
    const page = new DOMParser().parseFromString(htmlString, "text/html");
    const article = page.querySelector("article.bd-article") || page.querySelector('[role="main"]');
    if (!article) return "";
    article.querySelectorAll(".headerlink, script, style, div.math").forEach((node) => node.remove());
    article.querySelectorAll("span.math").forEach((node) => node.replaceWith("…"));
    const part = anchor ? article.querySelector(anchor) : null;
    return (part || article).textContent.replace(/\s+/g, " ");
  };
});
