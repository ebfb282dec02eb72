// « Tout sélectionner sur la page » of the bulk processing on « Factures reçues ».
// Delegated on the document, so it keeps working after the HTMX swaps of the results.
document.addEventListener("change", function (event) {
  if (!event.target.matches("[data-bulk-all]")) return;
  document.querySelectorAll("#bulk-form input[name=invoices]").forEach(function (box) {
    box.checked = event.target.checked;
  });
});
