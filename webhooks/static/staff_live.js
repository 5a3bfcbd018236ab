// Staff console, live conversations: the waiting list reloads itself, and a conversation page adds
// the person's new messages as they arrive (polling; text is shown as text, never HTML).
(function () {
  const list = document.querySelector("[data-refresh-seconds]");
  if (list) setTimeout(function () { location.reload(); }, Number(list.dataset.refreshSeconds) * 1000);

  const lines = document.getElementById("live-lines");
  if (!lines) return;
  const state = document.getElementById("live-state");
  let after = Number(lines.dataset.after);

  function add(message) {
    const item = document.createElement("li");
    item.className = message.from;
    const when = document.createElement("span");
    when.className = "when";
    when.textContent = message.time.slice(11);
    const who = document.createElement("span");
    who.className = "who";
    who.textContent = message.from === "staff" ? message.who : lines.dataset["label" + message.from];
    const text = document.createElement("span");
    text.className = "text";
    text.textContent = message.text;
    item.append(when, " ", who, " ", text);
    lines.appendChild(item);
  }

  async function poll() {
    try {
      const response = await fetch(lines.dataset.url + "?after=" + after, {headers: {Accept: "application/json"}});
      if (response.ok) {
        const body = await response.json();
        body.messages.forEach(function (message) { after = Math.max(after, message.id); add(message); });
        if (state && body.state !== state.dataset.state) state.textContent = lines.dataset["state" + body.state];
      }
    } catch (error) {
      // the network or the server is down for a moment: try again on the next tick
    }
    setTimeout(poll, 2000);
  }
  setTimeout(poll, 2000);
})();
