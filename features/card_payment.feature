Feature: Card payment through the bank's hosted page
  As a shop owner switching card payments from TEST to REAL
  I want a card payment to reach Ecwid as PAID only after the gateway has confirmed it with the bank
  So that no order ships unpaid and a declined customer can simply try another card

  @RC-01 @simulator @desktop
  Scenario: A customer pays by card and lands on the store's thank-you page
    Given a customer shopping in the store on a desktop browser
    When the customer orders 2 "Apricot jam" and goes to pay
    And pays on the bank page with card "4242424242424242"
    Then the customer sees the store's thank-you page
    And the Ecwid order is "PAID"
    And Ecwid was set to PAID only after the bank confirmed the payment to the gateway
    And the bank has 1 new order

  @RC-05 @simulator @desktop
  Scenario Outline: A declined card gets a clear message in the customer's language and another card succeeds
    Given a customer shopping in the store on a desktop browser in "<lang>"
    When the customer orders 1 "Gata" and goes to pay
    And pays on the bank page with card "<card>"
    Then the customer is back at checkout with the message "<message>"
    And the Ecwid order is "INCOMPLETE"
    When the customer pays again with card "4242424242424242"
    Then the customer sees the store's thank-you page
    And the Ecwid order is "PAID"
    And the bank has 2 new orders

    Examples:
      | card             | lang | message                       |
      | 4000000000009995 | en   | insufficient funds            |
      | 4000000000000069 | en   | the card has expired          |
      | 4000000000000002 | en   | Your card was declined        |
      | 4000000000009995 | hy   | անբավարար միջոցներ            |
      | 4000000000000069 | ru   | истёк срок действия карты     |
