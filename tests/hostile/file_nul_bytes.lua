-- a scenario with NUL bytes in a string
-- expect: exit 0
print('a\0b')
expect('a\0b'):equals('a\0b')
