// « Imprimer » buttons ([data-print]) print the page; a file, not an onclick attribute, so that
// the Content-Security-Policy can forbid inline scripts.
document.addEventListener("click", (event) => {
  if (event.target.closest("[data-print]")) {
    window.print();
  }
});
