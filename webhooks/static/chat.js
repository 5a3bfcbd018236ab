// Web chat: posts each message to the web app, which talks to the assistant on the server side.
// What was said is kept in this tab's sessionStorage under the conversation's history key (a
// token the server derives from the conversation), so a reload shows it again; a new
// conversation has a new key, and ending one deletes everything kept.
(function () {
  "use strict";
  const log = document.getElementById("log");
  const greeting = log.querySelector(".greeting");
  const form = document.getElementById("composer");
  const input = document.getElementById("message");
  const sendButton = form.querySelector("button");
  const endButton = document.getElementById("end");
  const token = document.querySelector('meta[name="csrf-token"]').content;
  const KEPT_PREFIX = "chat-history:";
  const MAX_KEPT = 200;
  const LANG = {zh: "zh-CN", en: "en"};
  const QUIET = {error: true, notice: true};  // shown, never kept
  let historyKey = document.querySelector('meta[name="chat-history"]').content;
  let busy = false;
  let typing = null;

  // --- what this tab keeps ---
  function kept() {
    try {
      return JSON.parse(sessionStorage.getItem(KEPT_PREFIX + historyKey)) || [];
    } catch (error) {
      return [];
    }
  }

  function keep(entry) {
    const entries = kept();
    entries.push(entry);
    try {
      sessionStorage.setItem(KEPT_PREFIX + historyKey, JSON.stringify(entries.slice(-MAX_KEPT)));
    } catch (error) {
      // storage full or switched off: the page still works, a reload just starts empty
    }
  }

  function forget(allButCurrent) {
    try {
      const stale = [];
      for (let i = 0; i < sessionStorage.length; i++) {
        const key = sessionStorage.key(i);
        if (key.startsWith(KEPT_PREFIX) && !(allButCurrent && key === KEPT_PREFIX + historyKey)) stale.push(key);
      }
      stale.forEach(function (key) { sessionStorage.removeItem(key); });
    } catch (error) {
      // storage switched off: nothing was kept
    }
  }

  // --- the log ---
  function append(element) {
    log.insertBefore(element, typing);  // the typing indicator stays last
    log.scrollTop = log.scrollHeight;
  }

  function bilingual(kind, zh, en) {
    const p = document.createElement("p");
    p.className = kind;
    const mandarin = document.createElement("span");
    mandarin.textContent = zh;
    const english = document.createElement("span");
    english.lang = "en";
    english.textContent = en;
    p.append(mandarin, " ", english);
    append(p);
    return p;
  }

  function clearChoices() {
    log.querySelectorAll(".choices").forEach(function (choices) { choices.remove(); });
  }

  function offer(buttons, lang) {
    const group = document.createElement("div");
    group.className = "choices";
    group.setAttribute("role", "group");
    group.setAttribute("aria-label", "可选回复 Choices");
    buttons.forEach(function (choice) {
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = choice.title;
      if (LANG[lang]) button.lang = LANG[lang];
      button.addEventListener("click", function () { send(choice.payload, choice.title, lang); });
      group.appendChild(button);
    });
    append(group);
  }

  // Adds a message to the log as plain text (never HTML). kind: "bot", "me", or any other kind
  // of message a conversation has, all kept across a reload; "error" and "notice" are not kept.
  // options: lang ("zh" or "en") sets the bubble's language, buttons offers choices after it,
  // keep: false shows it without keeping it; id is a staff message's id, kept so a reload does not
  // fetch it again.
  function show(text, kind, options) {
    const opts = options || {};
    const p = document.createElement("p");
    p.className = kind;
    p.textContent = text;
    if (LANG[opts.lang]) p.lang = LANG[opts.lang];
    append(p);
    const buttons = opts.buttons || [];
    if (buttons.length) offer(buttons, opts.lang);
    if (opts.keep !== false && !QUIET[kind]) {
      keep({text: text, kind: kind, lang: opts.lang || null, buttons: buttons, id: opts.id || null});
    }
    return p;
  }

  function setBusy(on) {
    busy = on;
    sendButton.disabled = on;
    if (on && !typing) {
      typing = document.createElement("p");
      typing.className = "typing";
      typing.setAttribute("role", "status");
      typing.innerHTML = '<span class="dot"></span><span class="dot"></span><span class="dot"></span>' +
        '<span class="visually-hidden">正在输入… <span lang="en">Typing…</span></span>';
      log.appendChild(typing);
      log.scrollTop = log.scrollHeight;
    } else if (!on && typing) {
      typing.remove();
      typing = null;
    }
  }

  function refocus() {
    // Not on touch screens: focusing the input would pop up the keyboard after every button.
    if (window.matchMedia("(pointer: fine)").matches) input.focus();
  }

  // --- turns ---
  function failed(bubble, message, lang, reason) {
    bubble.classList.add("failed");
    const note = reason ? show(reason, "error")
      : bilingual("error", "网络连接异常，消息未发送。", "Network problem: the message was not sent.");
    const retry = document.createElement("button");
    retry.type = "button";
    retry.className = "retry";
    retry.append("重试 · ");
    const english = document.createElement("span");
    english.lang = "en";
    english.textContent = "Retry";
    retry.appendChild(english);
    retry.addEventListener("click", function () {
      if (busy) return;
      note.remove();
      deliver(message, bubble, lang);
    });
    note.append(" ", retry);
  }

  async function deliver(message, bubble, lang) {
    setBusy(true);
    let response, body;
    try {
      response = await fetch("/chat/message", {
        method: "POST",
        headers: {"Content-Type": "application/json", "X-CSRFToken": token},
        body: JSON.stringify({message: message}),
      });
      body = await response.json();
    } catch (error) {
      failed(bubble, message, lang, null);  // nothing (or no answer) reached us: the message is kept
      return;
    } finally {
      setBusy(false);
    }
    if (!response.ok) {
      // Too many messages may be sent again later; a refused one (empty, expired page) may not.
      if (response.status === 429 || response.status >= 500) failed(bubble, message, lang, body.error);
      else show(body.error, "error");
      return;
    }
    bubble.classList.remove("failed");
    if (body.history !== historyKey) {
      // The server started another conversation (e.g. a new browser session): what was kept is not its.
      forget(false);
      historyKey = body.history;
      log.replaceChildren(greeting, bubble);
    }
    const said = lang || body.language;
    if (!bubble.lang && LANG[said]) bubble.lang = LANG[said];
    keep({text: bubble.textContent, kind: "me", lang: said || null, buttons: []});
    body.messages.forEach(function (reply) {
      show(reply.text, "bot", {lang: reply.language, buttons: reply.buttons});
    });
  }

  function send(message, shown, lang) {
    if (busy) return;
    clearChoices();
    const bubble = show(shown, "me", {lang: lang, keep: false});
    deliver(message, bubble, lang).then(refocus);
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    const text = input.value.trim();
    if (!text || busy) return;
    input.value = "";
    send(text, text, null);
  });

  // Ends the conversation on the server: nothing verified in it survives for whoever comes next,
  // and nothing said in it is shown again on this page.
  endButton.addEventListener("click", async function () {
    if (busy) return;
    let response, body;
    try {
      response = await fetch("/chat/end", {method: "POST", headers: {"X-CSRFToken": token}});
      body = await response.json();
    } catch (error) {
      bilingual("error", "网络连接异常，对话尚未结束，请重试。", "Network problem: the chat has not ended yet; please try again.");
      return;
    }
    if (!response.ok) { show(body.error, "error"); return; }
    forget(false);
    historyKey = body.history;
    log.replaceChildren(greeting);
    bilingual("notice", "对话已结束，您的身份核验已清除。", "The conversation has ended and your verification was cleared.");
    refocus();
  });

  // --- on load: what this conversation said before a reload, and nothing of any other ---
  forget(true);
  const entries = kept();
  entries.forEach(function (entry, index) {
    const last = index === entries.length - 1;
    show(entry.text, entry.kind, {lang: entry.lang, buttons: last ? entry.buttons : [], keep: false});
  });
  input.focus();

  // Live staff: while this conversation is with staff (waiting, taken, or collecting a callback
  // request), poll for their replies and notices and show them. A bot reply may start a handover,
  // so the log changing triggers one look; polling goes on only while the handover lasts.
  (function () {
    const OPEN = ["waiting", "taken", "callback"];
    let after = kept().reduce(function (last, entry) { return Math.max(last, entry.id || 0); }, 0);
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
          const text = message.from === "staff" ? "工作人员 · Staff: " + message.text : message.text;
          show(text, "bot staff", {id: message.id});
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
