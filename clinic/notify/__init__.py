"""Calendar invites and messages to patients and practitioners."""
