"""``execution="process"``: a child process per run, forked by a zygote.

``handle`` is the kernel's side of a run, ``zygote`` starts and talks to the
fork server, ``_zygote`` is the fork server itself and ``_child`` what a
forked child does. This module imports nothing, so a child starts fast.
"""
