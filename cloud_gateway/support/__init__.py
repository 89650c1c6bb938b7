"""Customer support: tickets with attachments and repair orders with quotes (R-POR-5, R-MON-21)."""
