"""``--remember``: where a login's refreshable JWT is kept between kernels, and resuming it."""
