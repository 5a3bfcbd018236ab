// Web chat: posts each message to the web app, which talks to the assistant on the server side.
(function () {
  const log = document.getElementById("log");
  const form = document.getElementById("composer");
  const input = document.getElementById("message");
  const button = form.querySelector("button");
  const token = document.querySelector('meta[name="csrf-token"]').content;

  function show(text, kind) {
    const p = document.createElement("p");
    p.className = kind;
    p.textContent = text;  // never HTML: replies are shown as plain text
    log.appendChild(p);
    log.scrollTop = log.scrollHeight;
  }

  // Ends the conversation on the server: nothing verified in it survives for whoever comes next.
  document.getElementById("end").addEventListener("click", async function () {
    try {
      const response = await fetch("/chat/end", {method: "POST", headers: {"X-CSRFToken": token}});
      if (!response.ok) { show((await response.json()).error, "error"); return; }
      log.replaceChildren();
      show("对话已结束，您的身份核验已清除。The conversation has ended and your verification was cleared.", "bot");
    } catch (error) {
      show("网络连接异常，请稍后再试。Network problem, please try again.", "error");
    }
  });

  form.addEventListener("submit", async function (event) {
    event.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    show(text, "me");
    input.value = "";
    button.disabled = true;
    try {
      const response = await fetch("/chat/message", {
        method: "POST",
        headers: {"Content-Type": "application/json", "X-CSRFToken": token},
        body: JSON.stringify({message: text}),
      });
      const body = await response.json();
      if (!response.ok) show(body.error, "error");
      else body.replies.forEach(function (reply) { show(reply, "bot"); });
    } catch (error) {
      show("网络连接异常，请稍后再试。Network problem, please try again.", "error");
    } finally {
      button.disabled = false;
      input.focus();
    }
  });

  // Live staff: while this conversation is with staff (waiting, taken, or collecting a callback
  // request), poll for their replies and notices and show them. A bot reply may start a handover,
  // so the log changing triggers one look; polling goes on only while the handover lasts.
  (function () {
    const OPEN = ["waiting", "taken", "callback"];
    let after = 0;
    let timer = null;
    function schedule(delay) { if (timer === null) timer = setTimeout(poll, delay); }
    async function poll() {
      timer = null;
      try {
        const response = await fetch("/chat/updates?after=" + after, {headers: {Accept: "application/json"}});
        if (!response.ok) { schedule(10000); return; }
        const body = await response.json();
        body.messages.forEach(function (message) {
          after = Math.max(after, message.id);
          show(message.from === "staff" ? "工作人员 · Staff: " + message.text : message.text, "bot staff");
        });
        if (OPEN.indexOf(body.state) >= 0) schedule(2000);
      } catch (error) {
        schedule(10000);
      }
    }
    new MutationObserver(function () { schedule(300); }).observe(log, {childList: true});
    schedule(0);
  })();
})();
