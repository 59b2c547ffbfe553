"""Publishing: the scheduler, channels and publishers, best-time proposals and the calendar export."""
