"""Bank transfers: camt.053 statements read, credits matched to pro-formas, the queue."""
