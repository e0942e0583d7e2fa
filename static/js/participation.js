// Progressive enhancement only: every page works without this file.
document.addEventListener("DOMContentLoaded", () => {
  // Move focus to the error summary so screen readers announce what went wrong.
  const summary = document.getElementById("error-summary");
  if (summary) {
    summary.focus();
  }
});

// Support buttons: send the form in the background and update the button, the count and the
// supports left. Anything but a JSON answer falls back to sending the form the ordinary way.
document.addEventListener("submit", async (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-support-form")) {
    return;
  }
  event.preventDefault();
  // A second press while the first is on its way is ignored. The button is not disabled for
  // that: a disabled button loses the focus, and a keyboard user would be thrown back to the
  // top of the page.
  if (form.dataset.sending) {
    return;
  }
  form.dataset.sending = "true";
  const button = form.querySelector("button[type=submit]");
  const box = form.closest("[data-support-box]");
  const status = box && box.querySelector("[data-support-message]");
  button.setAttribute("aria-busy", "true");
  let answer;
  let response;
  try {
    response = await fetch(form.action, {
      method: "POST",
      body: new FormData(form),
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    });
    if (!(response.headers.get("Content-Type") || "").includes("application/json")) {
      throw new Error("not JSON");
    }
    answer = await response.json();
  } catch {
    form.submit();
    return;
  } finally {
    delete form.dataset.sending;
    button.removeAttribute("aria-busy");
  }
  if (status) {
    status.textContent = answer.message;
  }
  if (!response.ok) {
    return;
  }
  form.action = answer.action;
  // The button keeps its name; its state and the text beside it change.
  form.querySelector("[data-support-mark]").textContent = answer.supported ? "✓ " : "";
  form.querySelector("[data-support-state]").textContent = answer.state_text;
  button.setAttribute("aria-pressed", String(answer.supported));
  button.classList.toggle("btn-primary", !answer.supported);
  button.classList.toggle("btn-outline-primary", answer.supported);
  document.querySelectorAll(`[data-support-count="${answer.proposal_id}"]`).forEach((count) => {
    count.textContent = answer.count_text;
  });
  document.querySelectorAll("[data-support-remaining]").forEach((remaining) => {
    remaining.textContent = answer.remaining_text;
  });
});

// Budget ballot: add up the ticked projects as boxes change, and keep a project that no longer
// fits in what is left (or beyond the most projects a ballot may hold) from being ticked, with
// the reason next to it. Unticking always works; the server checks the ballot again anyway.
function updateBallot(form) {
  const boxes = Array.from(form.querySelectorAll("input[type=checkbox][data-cost]"));
  const limit = Number(form.dataset.limit);
  const maxProjects = form.dataset.maxProjects ? Number(form.dataset.maxProjects) : null;
  const money = new Intl.NumberFormat(document.documentElement.lang || undefined, {
    style: "currency",
    currency: form.dataset.currency || "EUR",
    minimumFractionDigits: 0,
    maximumFractionDigits: 0,
  });
  let used = 0;
  let count = 0;
  boxes.forEach((box) => {
    if (box.checked) {
      used += Number(box.dataset.cost);
      count += 1;
    }
  });
  const remaining = limit - used;
  const full = maxProjects !== null && count >= maxProjects;
  boxes.forEach((box) => {
    let reason = "";
    if (!box.checked) {
      if (full) {
        reason = form.dataset.textMaxReached;
      } else if (Number(box.dataset.cost) > remaining) {
        reason = form.dataset.textNoRoom;
      }
    }
    box.disabled = reason !== "";
    const hint = document.getElementById(`${box.id}-hint`);
    if (hint) {
      hint.textContent = reason;
    }
    const row = box.closest(".ballot-project");
    if (row) {
      row.classList.toggle("ballot-project-unavailable", reason !== "");
    }
  });
  const show = (selector, text) => {
    const element = form.querySelector(selector);
    if (element && element.textContent !== text) {
      element.textContent = text;
    }
  };
  show("[data-ballot-used]", money.format(used));
  show("[data-ballot-remaining]", money.format(Math.max(remaining, 0)));
  show("[data-ballot-over]", money.format(Math.max(-remaining, 0)));
  show("[data-ballot-count]", String(count));
  const remainingLine = form.querySelector("[data-ballot-remaining-line]");
  const overLine = form.querySelector("[data-ballot-over-line]");
  if (remainingLine && overLine) {
    remainingLine.hidden = remaining < 0;
    overLine.hidden = remaining >= 0;
  }
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("form[data-ballot-form]").forEach(updateBallot);
});

document.addEventListener("change", (event) => {
  const form = event.target instanceof Element && event.target.closest("form[data-ballot-form]");
  if (form) {
    updateBallot(form);
  }
});

// The header menu (a <details>): Escape closes it and gives the focus back to its button;
// where the browser cannot show a closed <details> in full on a wide screen, it stays open.
(() => {
  const menu = document.querySelector("[data-site-menu]");
  if (!menu) {
    return;
  }
  const wide = window.matchMedia("(min-width: 992px)");
  const showsClosedContent = window.CSS && CSS.supports("selector(::details-content)");
  const follow = () => {
    if (wide.matches && !showsClosedContent) {
      menu.open = true;
    }
  };
  follow();
  wide.addEventListener("change", follow);
  menu.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && menu.open && !wide.matches) {
      menu.open = false;
      menu.querySelector("summary").focus();
    }
  });
})();
