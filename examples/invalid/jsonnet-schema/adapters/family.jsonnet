local s = import 'session.libsonnet';
[
  s.initiator('lse', 9876),
  s.initiator('aquis', 70000),
]
