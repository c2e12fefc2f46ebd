// The demo page: one model with a string, bound to a textarea; selections shared as references.
(function () {
  const params = new URLSearchParams(location.search);
  const ns = params.get("ns") || "demo";
  const domain = params.get("domain") || "default";
  const name = params.get("name") || "guest-" + Math.random().toString(36).slice(2, 6);
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const url = `${scheme}://${location.host}/realtime/${ns}/${domain}`;
  const textarea = document.getElementById("text");
  const mirror = document.getElementById("mirror");
  const status = document.getElementById("status");
  const people = document.getElementById("people");
  const colors = ["#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#008080", "#9a6324"];
  const remote = new Map(); // sessionId -> {name, color, range}

  function colorFor(id) {
    let h = 0;
    for (const c of id) h = (h * 31 + c.charCodeAt(0)) >>> 0;
    return colors[h % colors.length];
  }

  function escape(s) {
    return s.replace(/[&<>]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;" })[c]);
  }

  function render() {
    const text = textarea.value;
    const marks = [];
    for (const [id, r] of remote) {
      if (!r.range) continue;
      marks.push({ at: Math.min(r.range[0], r.range[1]), end: Math.max(r.range[0], r.range[1]), r });
    }
    marks.sort((a, b) => a.at - b.at);
    let html = "", pos = 0;
    for (const m of marks) {
      const at = Math.min(Math.max(m.at, pos), text.length);
      html += escape(text.slice(pos, at));
      const end = Math.min(Math.max(m.end, at), text.length);
      html += `<span class="caret" style="border-color:${m.r.color};background:${m.r.color}" data-name="${escape(m.r.name)}"></span>`;
      html += `<span class="sel" style="background:${m.r.color}">${escape(text.slice(at, end))}</span>`;
      pos = end;
    }
    mirror.innerHTML = html + escape(text.slice(pos)) + "\n";
    mirror.scrollTop = textarea.scrollTop;
    people.innerHTML = [`<span style="background:#444">${escape(name)} (you)</span>`]
      .concat([...remote.values()].map((r) => `<span style="background:${r.color}">${escape(r.name)}</span>`))
      .join("");
  }

  Convergence.connectAnonymously(url, name)
    .then((d) => d.models().openAutoCreate({
      id: "shared-textarea",
      collection: "demo",
      data: { text: "Type here. Open a second tab to see co-editing.\n" },
    }))
    .then((model) => {
      const rts = model.elementAt("text");
      textarea.value = rts.value();
      textarea.disabled = false;
      status.textContent = `connected to ${url} as ${name}`;
      let last = textarea.value;

      // Local edits: diff against the last known text, send one splice.
      textarea.addEventListener("input", () => {
        const now = textarea.value;
        let start = 0;
        while (start < last.length && start < now.length && last[start] === now[start]) start++;
        let endOld = last.length, endNew = now.length;
        while (endOld > start && endNew > start && last[endOld - 1] === now[endNew - 1]) { endOld--; endNew--; }
        const removed = endOld - start, inserted = now.slice(start, endNew);
        if (removed > 0 && inserted.length > 0) rts.splice(start, removed, inserted);
        else if (removed > 0) rts.remove(start, removed);
        else if (inserted.length > 0) rts.insert(start, inserted);
        last = now;
        render();
        shareSelection();
      });

      // Remote edits: keep our caret where it was in the text.
      const onRemote = () => {
        const s = textarea.selectionStart, e = textarea.selectionEnd;
        const before = textarea.value, after = rts.value();
        textarea.value = after;
        last = after;
        const shift = (i) => (i <= 0 ? i : i + (after.length - before.length) * (i >= firstDiff(before, after) ? 1 : 0));
        textarea.setSelectionRange(Math.max(0, shift(s)), Math.max(0, shift(e)));
        render();
      };
      rts.on("insert", onRemote);
      rts.on("remove", onRemote);
      rts.on("value", onRemote);

      // Cursors: a range reference on the string.
      const selection = rts.rangeReference("selection");
      selection.share();
      function shareSelection() { selection.set({ start: textarea.selectionStart, end: textarea.selectionEnd }); }
      document.addEventListener("selectionchange", () => { if (document.activeElement === textarea) shareSelection(); });
      textarea.addEventListener("keyup", shareSelection);
      textarea.addEventListener("click", shareSelection);
      textarea.addEventListener("scroll", () => { mirror.scrollTop = textarea.scrollTop; });

      function track(ref) {
        if (ref.isLocal() || ref.key() !== "selection") return;
        const id = ref.sessionId();
        const entry = { name: ref.user().displayName || ref.user().username, color: colorFor(id), range: null };
        remote.set(id, entry);
        const update = () => {
          const v = ref.value();
          entry.range = v ? [v.start, v.end] : null;
          render();
        };
        ref.on("set", update);
        ref.on("cleared", update);
        ref.on("disposed", () => { remote.delete(id); render(); });
        update();
      }
      rts.references().forEach(track);
      rts.on("reference", (e) => track(e.reference));
      render();
    })
    .catch((e) => { status.textContent = "error: " + (e && e.message ? e.message : e); });

  function firstDiff(a, b) {
    let i = 0;
    while (i < a.length && i < b.length && a[i] === b[i]) i++;
    return i;
  }
})();
