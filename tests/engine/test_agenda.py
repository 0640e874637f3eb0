from notebook_sched._engine.agenda import Agenda


def test_due_marked_and_superseded():
    agenda = Agenda()
    agenda.check_at("a", 10.0)
    agenda.check_at("b", 5.0)
    agenda.check_at("b", 20.0)  # supersedes b at 5
    assert agenda.next_time() == 10.0
    assert agenda.take_due(9.9) == set()
    assert agenda.take_due(10.0) == {"a"}
    assert agenda.next_time() == 20.0
    agenda.mark(["c"])
    assert agenda.has_marked
    assert agenda.take_due(0) == {"c"}
    agenda.check_at("b", None)
    assert agenda.next_time() is None


def test_watchers_follow_redefinition():
    agenda = Agenda()
    agenda.watch("load", {"extract"})
    agenda.mark_with_watchers("extract")
    assert agenda.take_due(0) == {"extract", "load"}
    agenda.watch("load", set())  # redefined without the dependency
    agenda.mark_with_watchers("extract")
    assert agenda.take_due(0) == {"extract"}


def test_heap_stays_bounded_under_rescheduling():
    agenda = Agenda()
    for i in range(10_000):
        agenda.check_at("a", float(i))
    assert len(agenda._heap) < 200
    assert agenda.take_due(10_000) == {"a"}
