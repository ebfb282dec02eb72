"""Chœur: e-invoicing for French public procurement, a drop-in for Chorus Pro."""
