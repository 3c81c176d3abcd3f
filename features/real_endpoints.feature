Feature: The REAL endpoints, probed before the switch
  As a shop owner about to switch the gateway from TEST to REAL
  I want read-only probes of the callback URL the bank will call and of the REAL bank with the REAL credentials
  So that a wrong certificate, a redirect or a wrong password is found before the first real payment, not by it

  The probes are the ones "vposlab probe callback" and "vposlab probe bank" run against a real deployment. In the lab
  the callback URL is the lab gateway's own (plain HTTP on 127.0.0.1) and the simulated bank plays TEST and REAL at
  once: what only the real endpoints can show (HTTPS with a public certificate, the REAL bank) comes out NOT
  APPLICABLE, never PASS. The HTTPS examples put a front with a throwaway CA before the lab's gateway.

  @RC-34 @simulator
  Scenario: The lab gateway's callback endpoint answers every operation the bank sends, and refuses forgeries
    When the callback probe runs against the lab gateway's callback URL with the bank's key
    Then the callback findings CB-03, CB-04, CB-05 and CB-06 pass
    And the callback findings CB-01 and CB-02 are not applicable because the lab has no HTTPS
    And CB-06 names every operation the bank sends: approved, deposited, declinedByTimeout, reversed and refunded
    And the callback probe's verdict is INCOMPLETE
    And no secret appears in the callback probe's report

  @RC-34 @simulator
  Scenario: Without the bank's key the probe says the operations could not be checked
    When the callback probe runs against the lab gateway's callback URL without a key
    Then the callback findings CB-03, CB-04 and CB-05 pass
    And the callback finding CB-06 is NOT CHECKED with "could not be checked"
    And the callback probe's verdict is INCOMPLETE

  @RC-34 @simulator
  Scenario Outline: An HTTPS front of the lab gateway: the probe checks the certificate chain
    Given an HTTPS front of the lab gateway with <certificate> from a throwaway CA
    When the callback probe runs against the HTTPS front trusting the throwaway CA
    Then the callback finding CB-02 is <status> with "<words>"
    And the callback probe's verdict is <verdict>

    Examples:
      | certificate                    | status | words                         | verdict   |
      | a certificate for 127.0.0.1    | PASS   | verified for the host         | READY     |
      | an expired certificate         | FAIL   | the certificate has expired   | NOT READY |
      | a certificate for another host | FAIL   | not valid for this IP address | NOT READY |

  @RC-34 @simulator
  Scenario: A callback URL that redirects is named, since the bank does not follow redirects
    Given a callback URL that redirects to the lab gateway's callback endpoint
    When the callback probe runs against the redirecting URL with the bank's key
    Then the callback finding CB-03 fails with "the bank does not follow redirects"
    And the callback probe's verdict is NOT READY

  @RC-35 @simulator
  Scenario: The simulated bank accepts the lab's credentials for every currency and answers as on TEST, read-only
    Given two Ecwid orders of 15000 AMD paid at the bank: one read as a REAL order, one as the TEST reference
    When the parity probe reads the simulated bank with the lab's credentials per currency
    Then the bank findings BK-02, BK-03/AMD, BK-03/USD, BK-03/EUR, BK-03/RUB, BK-04, BK-05 and BK-06 pass
    And the bank finding BK-01 is not applicable because the lab's bank is plain HTTP on 127.0.0.1
    And the parity probe's verdict is INCOMPLETE
    And the parity probe only read order statuses at the bank
    And the paid orders are unchanged at the bank
    And the bank has 2 new orders
    And no secret appears in the parity probe's report

  @RC-35 @simulator
  Scenario: A wrong bank password for one currency is named
    When the parity probe reads the simulated bank with the lab's credentials but a wrong password for USD
    Then the bank finding BK-03/USD fails with "Access denied"
    And the bank findings BK-02, BK-03/AMD, BK-03/EUR and BK-03/RUB pass
    And the parity probe's verdict is NOT READY
    And no secret appears in the parity probe's report
