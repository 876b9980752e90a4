"""A person and her identifiers (issue 21): the e-mail addresses, national identity number and portal user ids
proved to belong to one data subject, so that every answer about her is the same whichever identifier asks.

consent, dsar and subjects read it through people.service; it imports none of them.
"""
