Feature: Ecwid's API failing for a while
  As a shop owner switching card payments from TEST to REAL
  I want a payment the bank confirmed to reach Ecwid as PAID even when Ecwid's API is failing for a while
  So that a temporary outage at Ecwid never loses a paid order nor leaves the customer stranded

  @RC-16 @simulator @desktop
  Scenario Outline: Ecwid answers <failure> to the first <count> updates: retried, the order becomes PAID, nothing lost
    Given a customer shopping in the store on a desktop browser
    When the customer orders 1 "Lavash" and goes to pay
    And Ecwid's orders API answers <failure> to the next <count> updates
    And pays on the bank page with card "4242424242424242"
    Then the customer ends on the store's thank-you page within 40 seconds, after the gateway's processing page if Ecwid was still failing
    And within 40 seconds the Ecwid order is "PAID"
    And Ecwid refused the first <count> updates with HTTP <status> and then accepted PAID exactly once
    And the bank has 1 new order
    And the bank order of the attempt has orderStatus 2 and actionCode 0
    And the gateway opened no operator exception for the order

    Examples:
      | failure                                | count | status |
      | HTTP 500                               | 2     | 500    |
      | HTTP 503                               | 3     | 503    |
      | 429 with Retry-After 2 seconds         | 2     | 429    |
      | no answer past the gateway's timeout   | 1     | 503    |
