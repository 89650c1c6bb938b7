"""The customer portal's own pages: layout pages, master data, closing an account, sharing."""
