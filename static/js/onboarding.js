// Onboarding: tell the skills fieldset when a skill checkbox changes, so it refreshes the list
// of selected skills (hx-trigger="skills-changed"), and not when the search box does. An htmx
// event filter (change[target.name=='skills']) would do the same, but htmx evaluates filters
// with Function(), which the Content-Security-Policy refuses.
document.addEventListener("change", (event) => {
  if (event.target instanceof HTMLInputElement && event.target.name === "skills") {
    event.target.dispatchEvent(new CustomEvent("skills-changed", { bubbles: true }));
  }
});
