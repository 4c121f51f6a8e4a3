"""Operations: alert messages for the people on call and the runbook they point to."""
