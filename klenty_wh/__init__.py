"""klenty-wh: the warehouse side of a Klenty source in Segment.

The package follows the data flow, one subpackage per role:

* ``plan``: the tracking plan (``schema/klenty.yaml``) and Segment's naming rules.
* ``tables``: the warehouse tables the plan implies, as SQLAlchemy DDL.
* ``warehouse``: connections, URLs and introspection.
* ``load``: Segment exports into those tables, the way Segment's loader writes them.
* ``sample``: realistic sample exports for trying everything without data.
* ``checks``: Great Expectations suites and the checks that run them.
* ``report``: check results as text, JSON and JUnit XML.
* ``cli``: the ``klenty-wh`` command, a thin layer over the functions above.
"""

__version__ = "0.1.0"
