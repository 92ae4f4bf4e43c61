// The settings come from the server of the page (settings.json), so the
// page stays the same for every run; converse.min.js is a module that
// defines window.converse before this one runs (modules run in order).
const response = await fetch("settings.json");
const settings = await response.json();
converse.initialize(settings);
