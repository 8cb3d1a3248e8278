"""The portal's application-tracking API: the client the actions use
(`portal.client`) and a simulator that serves the same contract
(`portal.simulator`) for demos and tests."""
