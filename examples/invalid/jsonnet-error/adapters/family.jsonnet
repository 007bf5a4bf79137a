local venues = ['a', 'b'];
[
  { name: v } + error 'no template for ' + v
  for v in venues
]
