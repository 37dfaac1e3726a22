-- a failing scenario printing invalid UTF-8: the JUnit report stays well-formed
-- command: test {file} --quiet --junit {tmp}/j.xml
-- check-xml: {tmp}/j.xml
-- expect: exit 1
print('\xff\xfe \1 \xef\xbf\xbf ]]> <x>')
expect(1):equals(2)
