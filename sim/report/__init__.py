"""Rendering for people: terminal tables and progress (:mod:`.terminal`, :mod:`.design`) and figures."""
