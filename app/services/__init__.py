"""The rules of the API: transactions, lifecycle, business attributes. No flask here."""
