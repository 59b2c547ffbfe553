"""The Slack front end: Bolt app, listeners, Block Kit builders, worker pool and HTTP/Socket Mode serving."""
