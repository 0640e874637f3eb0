"""``execution="ray"``: a run on a Ray cluster.

``options`` checks what a task asks of Ray (resources, that Ray is
installed) without importing it; ``cluster`` connects to a cluster or starts
the local one through ``_head``, its guardian; ``handle`` is the kernel's side
of a run, ``_worker`` what runs on a Ray worker, and ``board`` the actor
that carries flags and progress between them. Importing this package
never imports Ray.
"""
