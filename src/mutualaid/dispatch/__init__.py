"""Matching in the product: volunteer indexes fed from the database, suggestions for a request,
proposals to volunteers that pass on when declined, on-duty members, nudges and supply and
demand. The engine itself is `mutualaid.matching`."""
