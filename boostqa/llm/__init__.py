"""The generation engine every LLM stage uses: client, AIMD throttle, response cache, ledger, transports."""
