"""The domain and its storage: settings, errors, types, the post lifecycle and its audited write funnel, platform rules and checks, and time in words."""
