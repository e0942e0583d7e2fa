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
  const button = form.querySelector("button[type=submit]");
  const box = form.closest("[data-support-box]");
  const status = box && box.querySelector("[data-support-message]");
  button.disabled = true;
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
    button.disabled = false;
  }
  if (status) {
    status.textContent = answer.message;
  }
  if (!response.ok) {
    return;
  }
  form.action = answer.action;
  form.querySelector("[data-support-label]").textContent = answer.label;
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
