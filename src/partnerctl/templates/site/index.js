// The index's cards, drawn from index-data.js a page at a time, with the search box and the
// filters; their state lives in the address (#theme=culture&region=europe&q=tur&page=2), so a
// filtered view can be shared and comes back on load. Registry text is only ever set as text.
(function () {
  "use strict";
  var data = window.PARTNERCTL_INDEX;
  var words = JSON.parse(document.getElementById("words").textContent);
  var form = document.getElementById("filters");
  var list = document.getElementById("partnerships");
  var pager = document.getElementById("pager");
  var at = {};
  data.fields.forEach(function (name, i) { at[name] = i; });
  var FILTERS = ["region", "theme", "network", "owner", "owner_country"].filter(function (name) {
    return form.elements[name];
  });
  var LISTS = {theme: "themes", network: "networks"};
  var EXTRA = {"ł": "l", "ø": "o", "đ": "d", "ß": "ss", "æ": "ae", "œ": "oe", "ı": "i", "þ": "th", "ð": "d",
               "’": "'", "‘": "'"};
  var page = 1;

  function say(text, values) {
    return text.replace(/\{(\w+)\}/g, function (all, name) { return String(values[name]); });
  }
  // As partnerctl folds names: lower case, accents dropped, the letters decomposition keeps mapped.
  function fold(text) {
    return text.toLowerCase().replace(/[łøđßæœıþð’‘]/g, function (c) { return EXTRA[c]; })
      .normalize("NFKD").replace(/[\u0300-\u036f]/g, "").trim();
  }
  function chosen() {
    var out = {};
    FILTERS.forEach(function (name) { out[name] = form.elements[name].value; });
    out.q = fold(form.elements.q.value);
    return out;
  }
  function keeps(row, want) {
    for (var i = 0; i < FILTERS.length; i += 1) {
      var name = FILTERS[i], value = want[name];
      if (!value) { continue; }
      var held = row[at[LISTS[name] || name]];
      if (LISTS[name] ? held.indexOf(value) === -1 : held !== value) { return false; }
    }
    if (want.q) {
      var terms = want.q.split(/\s+/);
      for (var j = 0; j < terms.length; j += 1) {
        if (row[at.words].indexOf(terms[j]) === -1) { return false; }
      }
    }
    return true;
  }
  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined) { node.textContent = text; }
    return node;
  }
  function card(row) {
    var li = element("li");
    li.setAttribute("data-id", row[at.id]);
    var link = element("a", "", row[at.city]);
    link.href = "partnerships/" + row[at.id] + ".html";
    li.appendChild(link);
    var where = [row[at.country], data.labels.region[row[at.region]]];
    if (row[at.since]) { where.push(say(words.since, {year: row[at.since]})); }
    li.appendChild(element("p", "where", where.filter(Boolean).join(" · ")));
    if (data.multiOwner && row[at.owner]) {
      var owner = data.labels.owner[row[at.owner]];
      var country = data.labels.owner_country[row[at.owner_country]];
      li.appendChild(element("p", "owner", say(words.owner, {owner: country ? owner + " (" + country + ")" : owner})));
    }
    var themes = row[at.themes].map(function (slug) { return data.labels.theme[slug] || slug; });
    if (themes.length) { li.appendChild(element("p", "themes", themes.join(", "))); }
    return li;
  }
  function writeHash(want) {
    var parts = [];
    FILTERS.forEach(function (name) {
      if (want[name]) { parts.push(name + "=" + encodeURIComponent(want[name])); }
    });
    if (form.elements.q.value.trim()) { parts.push("q=" + encodeURIComponent(form.elements.q.value.trim())); }
    if (page > 1) { parts.push("page=" + page); }
    var hash = parts.length ? "#" + parts.join("&") : "";
    if (window.location.hash !== hash) {
      window.history.replaceState(null, "", hash || window.location.pathname + window.location.search);
    }
  }
  function readHash() {
    var values = {};
    window.location.hash.replace(/^#/, "").split("&").forEach(function (part) {
      var pair = part.split("=");
      if (pair[0]) {
        try { values[pair[0]] = decodeURIComponent(pair.slice(1).join("=")); } catch (e) { /* ignore */ }
      }
    });
    FILTERS.forEach(function (name) {
      var select = form.elements[name];
      var wanted = values[name] || "";
      // A value the registry no longer has shows everything rather than nothing.
      select.value = Array.prototype.some.call(select.options, function (o) { return o.value === wanted; })
        ? wanted : "";
    });
    form.elements.q.value = values.q || "";
    page = Math.max(1, parseInt(values.page, 10) || 1);
  }
  function apply() {
    var want = chosen();
    var rows = data.rows.filter(function (row) { return keeps(row, want); });
    var pages = Math.max(1, Math.ceil(rows.length / data.pageSize));
    page = Math.min(page, pages);
    var fragment = document.createDocumentFragment();
    rows.slice((page - 1) * data.pageSize, page * data.pageSize).forEach(function (row) {
      fragment.appendChild(card(row));
    });
    list.textContent = "";
    list.appendChild(fragment);
    document.getElementById("count").textContent = say(words.shown, {shown: rows.length, total: data.rows.length});
    document.getElementById("none").hidden = rows.length !== 0;
    pager.hidden = pages < 2;
    document.getElementById("page").textContent = say(words.page, {page: page, pages: pages});
    document.getElementById("previous").disabled = page <= 1;
    document.getElementById("next").disabled = page >= pages;
    writeHash(want);
  }
  function changed() { page = 1; apply(); }
  form.addEventListener("change", changed);
  form.addEventListener("input", changed);
  form.addEventListener("submit", function (event) { event.preventDefault(); });
  form.addEventListener("reset", function () { window.setTimeout(changed, 0); });
  document.getElementById("previous").addEventListener("click", function () { page -= 1; apply(); window.scrollTo(0, 0); });
  document.getElementById("next").addEventListener("click", function () { page += 1; apply(); window.scrollTo(0, 0); });
  window.addEventListener("hashchange", function () { readHash(); apply(); });
  readHash();
  apply();
})();
