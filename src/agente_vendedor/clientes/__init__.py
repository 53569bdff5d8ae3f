"""Cliente Manager: the shop's customers."""
