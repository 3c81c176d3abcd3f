Feature: Bank callbacks early, late, never, duplicated and out of order
  As a shop owner
  I want the gateway to treat callbacks as verified hints, whenever and however often they arrive
  So that every paid order reaches Ecwid as PAID exactly once and a paid order never goes back

  @RC-07 @simulator @desktop
  Scenario: The bank's callback arrives before the customer returns
    Given a customer shopping in the store on a desktop browser
    When the customer orders 1 "Lavash" and goes to pay
    And the bank sends the order's callbacks immediately
    And pays on the bank page with card "4242424242424242"
    Then the customer sees the store's thank-you page
    And the Ecwid order is "PAID"
    And the bank's callback reached the gateway before the customer returned
    And the gateway answered 200 to every callback of the order
    And Ecwid was set to PAID exactly once

  @RC-08 @simulator @desktop
  Scenario Outline: The bank's callback comes only after the customer has returned and changes nothing
    Given a customer shopping in the store on a desktop browser
    When the customer orders 1 "Gata" and goes to pay
    And the bank <policy>
    And pays on the bank page with card "4242424242424242"
    Then the customer sees the store's thank-you page
    And the Ecwid order is "PAID"
    And no callback of the order had reached the gateway when Ecwid was set to PAID
    When the late callback reaches the gateway
    Then the gateway answered 200 to every callback of the order
    And the late callback cost the gateway no bank call
    And the Ecwid order is "PAID"
    And Ecwid was set to PAID exactly once

    Examples:
      | policy                                      |
      | holds the order's callbacks                 |
      | delays the order's callbacks by 5 seconds   |

  @RC-09 @simulator
  Scenario: No callback and no return: the gateway's poller settles the payment
    Given an Ecwid order of 15000 AMD with a bank payment page open
    And the bank will never send the order's callbacks
    When the customer pays with card "4242424242424242" on the bank page and closes the tab before returning
    Then within 30 seconds the Ecwid order is "PAID"
    And no callback of the order was sent
    And the gateway asked the bank for the order's status before setting it PAID
    And Ecwid was set to PAID exactly once

  @RC-10 @simulator
  Scenario: Five identical callbacks at once change the order once and update Ecwid once
    Given an Ecwid order of 15000 AMD with a bank payment page open
    And the bank sends each of the order's callbacks 5 times at once
    When the customer pays with card "4242424242424242" on the bank page and closes the tab before returning
    Then 5 callbacks of the order were sent and the gateway answered 200 to each
    And within 30 seconds the Ecwid order is "PAID"
    And the gateway asked the bank for the order's status before setting it PAID
    And Ecwid was set to PAID exactly once

  @RC-11 @simulator
  Scenario Outline: A declinedByTimeout next to the deposit never takes a paid order back
    Given an Ecwid order of 15000 AMD with a bank payment page open
    And the bank holds the order's callbacks
    When the customer pays with card "4242424242424242" on the bank page and closes the tab before returning
    And the bank also signs a "declinedByTimeout" callback with status 0 for the order
    And the held callbacks are released with <first> first
    Then every released callback was delivered in that order and the gateway answered 200 to each
    And within 30 seconds the Ecwid order is "PAID"
    And the Ecwid order never went back from PAID
    And Ecwid was set to PAID exactly once
    And the bank order is still deposited

    Examples:
      | first       |
      | the deposit |
      | the decline |
