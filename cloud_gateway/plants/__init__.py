"""PV plants and their inverters: model, activation codes, spreadsheets, portal pages, API."""
