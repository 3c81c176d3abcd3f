Feature: A stale bank page left open in another tab
  As a shop owner switching card payments from TEST to REAL
  I want an abandoned bank page to be cancelled at the bank once the gateway has moved on, and any payment it still
  takes to be shown to an operator
  So that a customer is not charged twice for one order, and if the bank cannot prevent it, nobody misses it

  @RC-36 @simulator @desktop
  Scenario: The customer starts again after the bank session: the stale bank order is declined before the new one
    Given a customer shopping in the store on a desktop browser
    When the customer orders 1 "Apricot jam" and goes to pay
    And leaves that bank page open in its tab while the gateway's clock passes the bank session
    And the customer starts again from the store in another tab and pays with card "4242424242424242"
    Then the new tab ends on the store's thank-you page
    And the gateway declined the first bank order with decline.do before it registered the second
    And the first bank order has orderStatus 6 and the second orderStatus 2
    When the customer pays on the first tab's still-open bank page with card "4242424242424242"
    Then the first tab's bank page refuses the payment
    And the first bank order still has orderStatus 6 and took no payment
    And the Ecwid order is "PAID"
    And Ecwid accepted PAID exactly once and never went back from it
    And the gateway's first attempt is "expired" and the second "paid"
    And the gateway opened no operator exception for the order
    And the bank has 2 new orders

  @RC-36 @simulator @desktop
  Scenario: The session ends without the customer returning: the gateway's worker declines the stale bank order
    Given a customer shopping in the store on a desktop browser
    When the customer orders 1 "Gata" and goes to pay
    And leaves that bank page open in its tab while the gateway's clock passes the bank session and its grace period
    Then within 20 seconds the gateway's worker declined the bank order with decline.do
    And the first bank order has orderStatus 6
    When the customer pays on the first tab's still-open bank page with card "4242424242424242"
    Then the first tab's bank page refuses the payment
    And the first bank order still has orderStatus 6 and took no payment
    And Ecwid was never told PAID
    And the gateway's only attempt is "expired"
    And the gateway opened no operator exception for the order
    And the bank has 1 new order

  @RC-27 @simulator @desktop
  Scenario: The bank cannot decline the stale order and it is paid after another attempt: a double charge, shown
    Given the bank does not deploy decline.do for the shop
    And a customer shopping in the store on a desktop browser
    When the customer orders 1 "Apricot jam" and goes to pay
    And leaves that bank page open in its tab while the gateway's clock passes the bank session
    And the customer starts again from the store in another tab and pays with card "4242424242424242"
    Then the new tab ends on the store's thank-you page
    And the gateway asked the bank to decline the first bank order and the bank refused
    When the customer pays on the first tab's still-open bank page with card "4242424242424242"
    Then the first bank order has orderStatus 2 and the second orderStatus 2
    And within 20 seconds the gateway opened an operator exception "double_charge" for the first attempt naming the second
    And the gateway's first attempt is "expired" and the second "paid"
    And the Ecwid order is "PAID"
    And Ecwid accepted PAID exactly once and never went back from it
    And the bank has 2 new orders
